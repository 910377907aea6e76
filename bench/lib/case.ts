/** What every bench case gets from the runner, and what it gives back. */

export interface CaseOptions {
  /** Runs per figure (each run alternates the sides). */
  readonly runs: number;
  /** Smaller payloads and counts, to check the bench itself works; figures are not publishable. */
  readonly quick: boolean;
  readonly log: (message: string) => void;
}

export interface BenchCase {
  readonly name: string;
  readonly title: string;
  run(options: CaseOptions): Promise<object>;
}
