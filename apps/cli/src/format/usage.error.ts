/** Bad command-line arguments: the message names the option and the reason. */
export class UsageError extends Error {
  readonly code = 'USAGE';
  readonly retriable = false;

  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}
