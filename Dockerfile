# syntax=docker/dockerfile:1
# ktcloud-lb-exporter image. Build: docker build -t registry.example.com/ktcloud/ktcloud-lb-exporter:<tag> .
# The runtime holds what package.json "files" publishes (bin, dist) plus production
# dependencies: no compiler, no sources, no dev dependencies, no npm cache.

# ---- build: compile TypeScript, then keep production dependencies only ----
FROM node:20-bookworm-slim AS build
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lockfile changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build \
 && npm ci --omit=dev --no-audit --no-fund

# ---- runtime ----
FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# Numeric UID/GID (no /etc/passwd entry needed), so Kubernetes runAsNonRoot can verify it;
# k8s-manifests/base/statefulset.yaml runs with the same IDs. Files stay root-owned: read-only.
USER 10001:10001
EXPOSE 9105
# Slim images have no curl: node itself asks /healthz. (Kubernetes ignores this and uses the
# StatefulSet's probes.) Assumes the default listen port 9105.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9105/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/ktcloud-lb-exporter"]
# Where the Kubernetes ConfigMap is mounted; `docker run IMAGE --config other.yaml` replaces it.
CMD ["--config", "/etc/ktcloud/config/accounts.yaml"]
