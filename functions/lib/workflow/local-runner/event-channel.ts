/**
 * An async iterable fed from several sources (the root execution and the child executions of
 * its Distributed Maps): values come out in the order they were pushed, and iteration ends once
 * the channel is closed and drained.
 */
export class EventChannel<Value> implements AsyncIterable<Value> {
  private queue: Value[] = [];
  // Array.shift is linear: with a slow reader and 100,000s of queued events that turns quadratic.
  private head = 0;
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
      if (this.head < this.queue.length) {
        const value = this.queue[this.head++] as Value;
        if (this.head >= 1024 && this.head * 2 >= this.queue.length) {
          this.queue = this.queue.slice(this.head);
          this.head = 0;
        }
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
