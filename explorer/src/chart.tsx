// A uPlot line chart in a Preact component: created once, fed new data on each render.

import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export function LineChart(props: { testid: string; title: string; xLabel: string; yLabel: string; xs: number[]; ys: number[]; color: string; bars?: boolean }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(280, el.clientWidth || 560);
    const opts: uPlot.Options = {
      width,
      height: 200,
      title: props.title,
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] } },
      padding: [8, 44, 0, 0],
      axes: [
        // Slots are large numbers: plain digits, and room for them.
        { label: props.xLabel, stroke: '#5b6472', grid: { stroke: '#eef0f3' }, space: 90, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        { label: props.yLabel, stroke: '#5b6472', grid: { stroke: '#eef0f3' } },
      ],
      legend: { show: false },
      series: [
        {},
        {
          label: props.yLabel,
          stroke: props.color,
          width: 2,
          fill: props.color + '22',
          points: { show: true, size: 4 },
          ...(props.bars ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
        },
      ],
    };
    plot.current = new uPlot(opts, [props.xs, props.ys], el);
    const onResize = () => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 200 });
    addEventListener('resize', onResize);
    return () => {
      removeEventListener('resize', onResize);
      plot.current?.destroy();
      plot.current = null;
    };
    // Created once; data flows in below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(() => {
    plot.current?.setData([props.xs, props.ys]);
  }, [props.xs, props.ys]);

  return (
    <div class="chart" data-testid={props.testid} data-points={props.xs.length}>
      <div ref={box} />
      {props.xs.length < 2 && <p class="muted small">The plot fills in as blocks arrive.</p>}
    </div>
  );
}

/** A few distinct colours for per-core and per-service series. */
export const PALETTE = ['#2563eb', '#d97706', '#16a34a', '#dc2626', '#7c3aed', '#0891b2', '#db2777', '#65a30d'];

export interface Series {
  label: string;
  ys: (number | null)[];
}

/** Several series over one x axis, with a legend; the plot is made again when the series change. */
export function MultiChart(props: { title: string; xLabel: string; yLabel: string; xs: number[]; series: Series[]; testid?: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = props.series.map((s) => s.label).join('\u0000');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(280, el.clientWidth || 560);
    const opts: uPlot.Options = {
      width,
      height: 200,
      title: props.title,
      scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, Math.ceil(max * 1.15))] } },
      padding: [8, 44, 0, 0],
      axes: [
        { label: props.xLabel, stroke: '#5b6472', grid: { stroke: '#eef0f3' }, space: 90, values: (_u, vals) => vals.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        { label: props.yLabel, stroke: '#5b6472', grid: { stroke: '#eef0f3' }, size: 70, values: (_u, vals) => vals.map(compact) },
      ],
      legend: { show: true, live: false },
      series: [{ label: props.xLabel }, ...props.series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length]!, width: 2, points: { show: true, size: 4 } }))],
    };
    plot.current = new uPlot(opts, [props.xs, ...props.series.map((s) => s.ys)] as uPlot.AlignedData, el);
    const onResize = () => plot.current?.setSize({ width: Math.max(280, el.clientWidth), height: 200 });
    addEventListener('resize', onResize);
    return () => {
      removeEventListener('resize', onResize);
      plot.current?.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [labels]);

  useEffect(() => {
    plot.current?.setData([props.xs, ...props.series.map((s) => s.ys)] as uPlot.AlignedData);
  }, [props.xs, props.series]);

  return (
    <div class="chart" data-testid={props.testid} data-points={props.xs.length} data-series={props.series.length}>
      <div ref={box} />
      {props.xs.length < 2 && <p class="muted small">The plot fills in as blocks arrive.</p>}
    </div>
  );
}

/** 1234567 → 1.2M: axis labels for gas and bytes. */
export function compact(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e12) return `${+(v / 1e12).toFixed(1)}T`;
  if (a >= 1e9) return `${+(v / 1e9).toFixed(1)}G`;
  if (a >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (a >= 1e3) return `${+(v / 1e3).toFixed(1)}k`;
  return Number.isInteger(v) ? String(v) : '';
}
