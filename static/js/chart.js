// static/js/chart.js — a horizontal bar chart in SVG, drawn by hand (no library): one bar per
// seller, a dashed line at the goal, bars that beat the goal in a second colour. The SVG is
// labelled for screen readers; the page also shows the numbers as a table.

import { svg } from './dom.js';

/*
 * bars: [{label, value, above}], goal: number (same unit as value), fmt: value → text.
 * Returns an <svg> element that scales to its container's width.
 */
export function barChart(bars, goal, fmt, { title = '', goalLabel = '' } = {}) {
  const W = 640;
  const labelW = 150;
  const valueW = 110;
  const rowH = 30;
  const top = 28;
  const plotW = W - labelW - valueW;
  const max = Math.max(goal * 1.1, ...bars.map((b) => b.value), 1);
  const x = (v) => labelW + (Math.max(0, v) / max) * plotW;
  const H = top + bars.length * rowH + 10;
  const root = svg('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': title, preserveAspectRatio: 'xMinYMin meet',
  }, svg('title', null, title));
  if (goal > 0) { // under the bars and their labels
    const gx = x(goal);
    root.append(
      svg('line', { x1: gx, x2: gx, y1: top - 6, y2: H - 4, class: 'goal' }),
      svg('text', { x: Math.min(gx, W - 4), y: 16, 'text-anchor': gx > W - 120 ? 'end' : 'middle', class: 'goal-lbl' },
        goalLabel));
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const name = b.label.length > 22 ? `${b.label.slice(0, 21)}…` : b.label;
    root.append(
      svg('text', { x: labelW - 8, y: y + rowH / 2 + 5, 'text-anchor': 'end', class: 'lbl' }, name),
      svg('rect', {
        x: labelW, y: y + 5, width: Math.max(1, x(b.value) - labelW), height: rowH - 10, rx: 3,
        class: b.above ? 'bar above' : 'bar', 'data-seller': b.label,
      }, svg('title', null, `${b.label}: ${fmt(b.value)}`)),
      svg('text', { x: x(b.value) + 6, y: y + rowH / 2 + 5, class: 'val' }, fmt(b.value)));
  });
  return root;
}
