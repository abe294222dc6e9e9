/**
 * An async iterable fed from several sources (the root execution and the child executions of
 * its Distributed Maps): values come out in the order they were pushed, and iteration ends once
 * the channel is closed and drained.
 */
export class EventChannel<Value> implements AsyncIterable<Value> {
  private readonly queue: Value[] = [];
  private closed = false;
  private wake: (() => void) | undefined;

  push(value: Value): void {
    if (this.closed) return;
    this.queue.push(value);
    this.signal();
  }

  close(): void {
    this.closed = true;
    this.signal();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Value> {
    while (true) {
      const value = this.queue.shift();
      if (value !== undefined) {
        yield value;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private signal(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
