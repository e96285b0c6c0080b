/**
 * What the benchmarks share: measurements collected per round, and the table
 * of medians they print.
 *
 * @module
 */

/** Measurements by name, one value per round. */
export class Report {
  readonly #rows: Record<string, number[]> = {};
  readonly #unit: string;

  /**
   * Creates an empty report.
   *
   * @param unit what the values count, such as "calls/s"
   */
  constructor(unit = "calls/s") {
    this.#unit = unit;
  }

  /**
   * Adds one round's value.
   *
   * @param name the measurement; names starting with "ratio" print as ratios
   * @param value in the report's unit, or a ratio
   */
  record(name: string, value: number): void {
    (this.#rows[name] ??= []).push(value);
  }

  /**
   * Prints the Markdown table: median and every round, per measurement.
   *
   * @param title the line above the table
   */
  print(title: string): void {
    console.log(`\n${title}:\n`);
    console.log("| measurement | median | all rounds |");
    console.log("|---|---|---|");
    for (const [name, values] of Object.entries(this.#rows)) {
      const fmt = (v: number) =>
        name.startsWith("ratio")
          ? v.toFixed(2)
          : `${Math.round(v).toLocaleString("en")} ${this.#unit}`;
      console.log(`| ${name} | ${fmt(median(values))} | ${values.map(fmt).join(", ")} |`);
    }
  }
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
}
