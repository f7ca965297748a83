/** The message a synchronous call is refused with, for table tests of parsers that throw ModgateError. */
import { type ErrorCode, isModgateError } from '../../core/errors.ts';

/** The message of the ModgateError(`code`) `fn` throws, or `accepted` when it returns; other errors are rethrown. */
export function refusal(code: ErrorCode, fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (isModgateError(err, code)) return err.message;
    throw err;
  }
  return 'accepted';
}
