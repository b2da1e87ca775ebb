/**
 * The live status line on stderr. On a terminal it redraws one line in place; in a pipe or CI
 * log it prints a full line every few seconds, because carriage returns make log files
 * unreadable and a line per half second drowns everything else.
 */
export interface ProgressOptions {
  stream?: NodeJS.WriteStream;
  ttyEveryMs?: number;
  lineEveryMs?: number;
}

export class ProgressLine {
  private timer: ReturnType<typeof setInterval> | undefined;
  private readonly stream: NodeJS.WriteStream;
  private readonly tty: boolean;

  constructor(private readonly options: ProgressOptions = {}) {
    this.stream = options.stream ?? process.stderr;
    this.tty = Boolean(this.stream.isTTY);
  }

  start(render: () => string): void {
    this.stop(false);
    const every = this.tty ? (this.options.ttyEveryMs ?? 500) : (this.options.lineEveryMs ?? 5_000);
    this.timer = setInterval(() => this.write(render()), every);
    this.timer.unref();
    this.render = render;
  }

  /** Stops redrawing; `finalLine` prints the last state as a summary line that stays. */
  stop(finalLine = true): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (finalLine && this.render) {
      this.write(this.render());
      if (this.tty) this.stream.write("\n");
    }
    this.render = undefined;
  }

  private render: (() => string) | undefined;

  private write(text: string): void {
    if (this.tty) {
      const width = this.stream.columns ?? 120;
      this.stream.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text}`);
    } else {
      this.stream.write(`${text}\n`);
    }
  }
}

/** Messages per second between two readings of a counter. */
export class RateMeter {
  private last: { at: number; value: number } | null = null;
  private rate = 0;

  sample(value: number, at = Date.now()): number {
    if (this.last && at > this.last.at) this.rate = ((value - this.last.value) * 1000) / (at - this.last.at);
    this.last = { at, value };
    return this.rate;
  }
}
