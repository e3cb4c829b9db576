/**
 * Every data failure. `where` is "file:line" (or the URI) so a person can open the spot; the message says
 * what was wrong and, where it helps, what to do.
 */
export class DatasetError extends Error {
  override name = "DatasetError";
  constructor(
    message: string,
    readonly where?: string,
  ) {
    super(message);
  }
}
