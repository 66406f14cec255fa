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
