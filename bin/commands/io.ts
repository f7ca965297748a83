/** Where the command writes: injectable so tests capture output without spawning. */
export interface CommandIo {
  out(text: string): void;
  err(text: string): void;
}

/** The process's own stdout and stderr: what every command writes to outside tests. */
export const PROCESS_IO: CommandIo = {
  out: (text) => void process.stdout.write(text),
  err: (text) => void process.stderr.write(text),
};
