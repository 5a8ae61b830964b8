// The real-time module's facade: services publish inside their transactions and run one hub per node.
export { publish } from './publish.ts';
export { readRoom, REPLAY_LIMIT, type RoomCatchUp } from './read-room.ts';
export { pruneRealtimeMessages, REALTIME_RETENTION_MS } from './prune.ts';
export {
  createHub,
  DEFAULT_HUB_LIMITS,
  type Authorize,
  type Hub,
  type HubLimits,
  type HubLog,
  type HubOptions,
  type HubStats,
} from './hub.ts';
export type { ClientFrame, RealtimeErrorCode, ServerFrame } from './protocol.ts';
export { isValidCursor, isValidRoom, REALTIME_CHANNEL, type JsonValue, type RealtimeMessage } from './room.ts';
