/**
 * Public entry point of the KT Cloud DX-zone API simulator. Tests, the demo and the benchmarks
 * import from here; the CLI (cli.ts) wraps the same startSimulator.
 */
export { startSimulator, type Simulator, type StartOptions, type RequestLogEntry } from './server.js';
export { loadSimulatorConfig, normalizeConfig, parseListen, DEFAULT_ZONES, SimulatorConfigError } from './config.js';
export { validateFaults, FaultValidationError } from './faults.js';
export { SimulatorError } from './state.js';
export { SimStats, maxInSortedWindow, COMMANDS, type StatsFilter, type StatsEntry, type StatsTotals, type StatsCommand } from './stats.js';
export { weirdLbName } from './serialize.js';
export type {
  SimulatorConfig,
  AccountConfig,
  AccountZoneConfig,
  GenerateConfig,
  ZoneConfig,
  LatencyConfig,
  SimLoadBalancerConfig,
  SimServerConfig,
  Faults,
  FaultTrigger,
  SimCommand,
  SimData,
  SimAccount,
  SimAccountZone,
  SimLoadBalancer,
  SimServer,
  SimZone,
  NumberStyle,
} from './types.js';
