/**
 * The base of the error classes of the lastcall packages that depend on log-shim: a stable
 * `code` next to the message. Each package subclasses it once (`GracefulError`, …) with its own
 * code union; branch on `code`, never on the message.
 */
export class CodedError<Code extends string> extends Error {
  /** A stable `LASTCALL_ERR_*` string. */
  readonly code: Code;

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}
