/** A CLI command: one file each in this folder, listed in cli.ts. */
export interface Command {
  usage: string;
  summary: string;
  /** resolves to the exit code, or -1 to keep the process running (start) */
  run(argv: string[]): Promise<number>;
}
