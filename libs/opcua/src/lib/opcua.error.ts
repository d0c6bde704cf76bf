/**
 * What went wrong with an OPC UA server or session, beside the configuration errors of their
 * own (NodeMapError, OpcuaSecurityError) and a device's refusal (TargetRefusedError):
 * - ADDRESS_SPACE_INCOMPLETE: a nodeset, type or node the address space must hold is missing
 *   (the server was built or loaded wrongly);
 * - DEVICE_MODEL_INVALID: the devices described cannot be served as given (a tag served twice);
 * - UNKNOWN_DEVICE, UNKNOWN_UNIT, UNKNOWN_TAG: a name the server or the session does not have;
 * - NAMESPACE_MISSING: the server does not serve the node map's namespace (the node map does not
 *   fit the server);
 * - MONITORING_FAILED: the server did not create a subscription's monitored items (the session
 *   or the connection failed under it): the only one worth trying again;
 * - ALREADY_MONITORING: a session's readings or state monitored a second time.
 */
export type OpcuaErrorCode =
  | 'ADDRESS_SPACE_INCOMPLETE'
  | 'DEVICE_MODEL_INVALID'
  | 'UNKNOWN_DEVICE'
  | 'UNKNOWN_UNIT'
  | 'UNKNOWN_TAG'
  | 'NAMESPACE_MISSING'
  | 'MONITORING_FAILED'
  | 'ALREADY_MONITORING';

const RETRIABLE: ReadonlySet<OpcuaErrorCode> = new Set(['MONITORING_FAILED']);

/** An OPC UA failure; `code` says which, `retriable` whether trying again may help. */
export class OpcuaError extends Error {
  readonly retriable: boolean;

  constructor(
    readonly code: OpcuaErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OpcuaError';
    this.retriable = RETRIABLE.has(code);
  }
}
