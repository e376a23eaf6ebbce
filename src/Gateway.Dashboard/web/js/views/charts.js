// Sparklines of the last five minutes: connections (admin, from /api/realtime/stats) and events per second (counted
// from the stream). Plain SVG polylines, no chart library.
import { byId } from '../dom.js';

const points = 300; // one a second

export class Sparkline {
  constructor(figureId) {
    const figure = byId(figureId);
    this.value = figure.querySelector('.value');
    this.line = figure.querySelector('polyline');
    this.samples = [];
  }

  push(value) {
    this.samples.push(value);
    if (this.samples.length > points) this.samples.shift();
    this.value.textContent = String(value);
    this.draw();
  }

  draw() {
    const max = Math.max(1, ...this.samples);
    const offset = points - this.samples.length;
    this.line.setAttribute('points', this.samples
      .map((v, i) => `${((offset + i) / (points - 1)) * 300},${58 - (v / max) * 56}`)
      .join(' '));
  }
}

/** Counts events as they arrive and pushes one sample a second. */
export class RateCounter {
  constructor(sparkline) {
    this.sparkline = sparkline;
    this.count = 0;
    this.timer = null;
  }

  start() {
    this.stop();
    this.timer = setInterval(() => {
      this.sparkline.push(this.count);
      this.count = 0;
    }, 1000);
  }

  stop() {
    clearInterval(this.timer);
  }

  hit() {
    this.count += 1;
  }
}
