/** A usage bar: a native <meter> with its figure beside it. */

export interface UsageMeterProps {
  /** 0..1; null renders a dash */
  fraction: number | null;
  /** the fraction from which the bar turns amber, and red above */
  warnAt: number;
  label: string;
  text: string;
}

/** Renders a meter coloured by how full it is, labelled for screen readers. */
export function UsageMeter(props: UsageMeterProps) {
  if (props.fraction === null) return <span class="muted">–</span>;
  const danger = Math.min(1, props.warnAt + (1 - props.warnAt) / 2);
  return (
    <span class="usage">
      <meter
        min={0}
        max={1}
        low={props.warnAt}
        high={danger}
        optimum={0}
        value={props.fraction}
        aria-label={props.label}
        title={props.text}
      >
        {props.text}
      </meter>
      <span class="usage-text">{props.text}</span>
    </span>
  );
}
