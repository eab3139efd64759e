/**
 * The Prometheus text exposition format (version 0.0.4): one HELP and TYPE
 * block per family, then its series. Families come out in the order they
 * first appear, each family's series together, as the format requires.
 */
import type { FamilyDef, Labels, SeriesValue } from "./metric_families.ts";

/** The Content-Type Prometheus expects for this format. */
export const EXPOSITION_CONTENT_TYPE =
  "text/plain; version=0.0.4; charset=utf-8";

const LABEL_SPECIAL = /[\\"\n]/;
const HELP_SPECIAL = /[\\\n]/;

/** Escapes a label value: backslash, double quote and newline. */
export function escapeLabelValue(value: string): string {
  if (!LABEL_SPECIAL.test(value)) return value;
  return value.replace(
    /[\\"\n]/g,
    (c) => c === "\n" ? "\\n" : c === '"' ? '\\"' : "\\\\",
  );
}

function escapeHelp(text: string): string {
  if (!HELP_SPECIAL.test(text)) return text;
  return text.replace(/[\\\n]/g, (c) => c === "\n" ? "\\n" : "\\\\");
}

/** A sample value as the format spells it (NaN, +Inf and -Inf included). */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function labelText(labels: Labels): string {
  let out = "";
  for (const key in labels) {
    out += `${out === "" ? "{" : ","}${key}="${escapeLabelValue(labels[key])}"`;
  }
  return out === "" ? "" : out + "}";
}

/** Collects series into exposition text; see `renderExposition`. */
export interface ExpositionWriter {
  emit(family: FamilyDef, labels: Labels, value: number): void;
  /** The text so far, every family's series together, ending in "\n". */
  text(): string;
}

/**
 * A writer that groups series by family, in the order families first
 * appear. The mapping hands out a guest's (or pool's) families one after
 * another with the same labels object, so the last label text is reused.
 * Lines are kept as parts and joined once per family: at 65k series that
 * costs a third of growing a string per line (whose rope V8 must flatten).
 */
export function createExpositionWriter(): ExpositionWriter {
  const blocks = new Map<FamilyDef, string[]>();
  let lastLabels: Labels | null = null;
  let lastText = "";
  return {
    emit(family, labels, value) {
      if (labels !== lastLabels) {
        lastLabels = labels;
        lastText = labelText(labels);
      }
      let parts = blocks.get(family);
      if (parts === undefined) {
        parts = [
          `# HELP ${family.name} ${escapeHelp(family.help)}\n`,
          `# TYPE ${family.name} ${family.type}\n`,
        ];
        blocks.set(family, parts);
      }
      parts.push(family.name, lastText, " ", formatValue(value), "\n");
    },
    text() {
      const all: string[] = [];
      for (const parts of blocks.values()) all.push(parts.join(""));
      return all.join("");
    },
  };
}

/** Renders a list of series as exposition text. */
export function renderExposition(series: Iterable<SeriesValue>): string {
  const w = createExpositionWriter();
  for (const s of series) w.emit(s.family, s.labels, s.value);
  return w.text();
}
