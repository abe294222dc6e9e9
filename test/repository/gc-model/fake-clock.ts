/** Time the model moves by hand, so passes can be days apart in a millisecond. */
export class FakeClock {
  private ms: number;

  constructor(start = Date.parse("2026-12-01T00:00:00Z")) {
    this.ms = start;
  }

  readonly now = (): Date => new Date(this.ms);

  advance(ms: number): void {
    this.ms += ms;
  }
}
