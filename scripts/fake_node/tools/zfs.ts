/**
 * The fake `zfs`: `list` as JSON (OpenZFS 2.3+, `-j`) or text, and
 * `--version`. Datasets, zvols and snapshots come from the node model at
 * the current time, so hourly snapshots roll over like the real thing.
 */
import { type JsonObject, jsonText } from "../json_text.ts";
import {
  type DatasetModel,
  datasetsAt,
  type NodeModel,
} from "../node_model.ts";
import { getopt } from "./getopt.ts";
import { fail, ok, type ToolResult } from "./tool_result.ts";
import { creationText, nicenum, table } from "./zfs_text.ts";
import { zfsListUsage } from "./zfs_usage.ts";
import { zfsVersion } from "./zfs_version.ts";

/** Answers one zfs command line at `nowMs`. */
export function zfs(
  model: NodeModel,
  args: string[],
  nowMs: number,
): ToolResult {
  const [sub, ...rest] = args;
  if (sub === "--version" || sub === "-V" || sub === "version") {
    return zfsVersion(model);
  }
  if (sub === "list") return list(model, rest, Math.floor(nowMs / 1000));
  if (sub === undefined) return fail("usage: zfs command args ...\n", 2);
  return fail(
    `unrecognized command '${sub}'\nusage: zfs command args ...\n`,
    2,
  );
}

interface Prop {
  name: string;
  header: string;
  right: boolean;
  /** the literal (-p) text, "-" where ZFS has no value */
  literal(d: DatasetModel): string;
  /** the human text */
  human(d: DatasetModel): string;
}

const size = (pick: (d: DatasetModel) => number | null) => ({
  right: true,
  literal: (d: DatasetModel) => {
    const v = pick(d);
    return v === null ? "-" : String(v);
  },
  human: (d: DatasetModel) => {
    const v = pick(d);
    return v === null ? "-" : nicenum(v);
  },
});

const PROPS: Prop[] = [
  {
    name: "name",
    header: "NAME",
    right: false,
    literal: (d) => d.name,
    human: (d) => d.name,
  },
  {
    name: "type",
    header: "TYPE",
    right: false,
    literal: (d) => d.type.toLowerCase(),
    human: (d) => d.type.toLowerCase(),
  },
  { name: "used", header: "USED", ...size((d) => d.used) },
  { name: "available", header: "AVAIL", ...size((d) => d.available) },
  { name: "referenced", header: "REFER", ...size((d) => d.referenced) },
  {
    name: "usedbysnapshots",
    header: "USEDSNAP",
    ...size((d) => d.usedbysnapshots),
  },
  {
    name: "creation",
    header: "CREATION",
    right: false,
    literal: (d) => String(d.creation),
    human: (d) => creationText(d.creation),
  },
  {
    name: "mountpoint",
    header: "MOUNTPOINT",
    right: false,
    literal: (d) => d.mountpoint ?? "-",
    human: (d) => d.mountpoint ?? "-",
  },
];

const ALIASES: Record<string, string> = {
  avail: "available",
  refer: "referenced",
  usedsnap: "usedbysnapshots",
};

const TYPES: Record<string, DatasetModel["type"][]> = {
  all: ["FILESYSTEM", "VOLUME", "SNAPSHOT"],
  filesystem: ["FILESYSTEM"],
  volume: ["VOLUME"],
  snapshot: ["SNAPSHOT"],
  snap: ["SNAPSHOT"],
  bookmark: [],
};

function list(model: NodeModel, args: string[], now: number): ToolResult {
  const parsed = getopt(args, {
    short: model.zfsJson ? "jHpd:o:rs:S:t:" : "Hpd:o:rs:S:t:",
    long: model.zfsJson ? ["json-int"] : [],
  });
  if (!parsed.ok) return fail(parsed.message + zfsListUsage(), 2);
  const { flags, values, operands } = parsed.opts;
  const props: Prop[] = [];
  for (
    const raw
      of (values.get("o") ?? "name,used,available,referenced,mountpoint").split(
        ",",
      )
  ) {
    const prop = PROPS.find((p) => p.name === (ALIASES[raw] ?? raw));
    if (!prop) {
      return fail(
        `bad property list: invalid property '${raw}'\n${zfsListUsage()}`,
        2,
      );
    }
    props.push(prop);
  }
  const types = new Set<DatasetModel["type"]>();
  for (const t of (values.get("t") ?? "filesystem,volume").split(",")) {
    const kinds = TYPES[t];
    if (!kinds) {
      return fail(
        `invalid type '${t}'\nmust be one of 'filesystem', 'volume', 'snapshot', 'bookmark', or 'all'\n`,
        2,
      );
    }
    kinds.forEach((k) => types.add(k));
  }
  let datasets = datasetsAt(model, now).filter((d) => types.has(d.type));
  for (const name of operands) {
    if (!datasetsAt(model, now).some((d) => d.name === name)) {
      return fail(`cannot open '${name}': dataset does not exist\n`, 1);
    }
  }
  if (operands.length > 0) {
    datasets = datasets.filter((d) =>
      operands.some((o) =>
        d.name === o ||
        (flags.has("r") &&
          (d.name.startsWith(`${o}/`) || d.name.startsWith(`${o}@`)))
      )
    );
  }
  if (flags.has("j")) {
    return ok(json(datasets, props, flags.has("json-int"), flags.has("p")));
  }
  const literal = flags.has("p");
  return ok(table(
    props.map((p) => p.header),
    datasets.map((d) =>
      props.map((p) => (literal ? p.literal(d) : p.human(d)))
    ),
    flags.has("H"),
    props.map((p) => p.right),
  ));
}

function json(
  datasets: DatasetModel[],
  props: Prop[],
  asInt: boolean,
  literal: boolean,
): string {
  const out: JsonObject = {};
  for (const d of datasets) {
    const properties: JsonObject = {};
    for (const prop of props) {
      if (prop.name === "name") continue;
      // --json-int implies -p, and turns all-digit values into numbers
      const text = asInt || literal ? prop.literal(d) : prop.human(d);
      const source = prop.name === "mountpoint" && d.mountpoint !== null
        ? (d.name.includes("/")
          ? {
            type: "INHERITED",
            data: d.name.slice(0, d.name.lastIndexOf("/")),
          }
          : { type: "DEFAULT", data: "-" })
        : { type: "NONE", data: "-" };
      properties[prop.name] = {
        value: asInt && /^\d+$/.test(text) ? Number(text) : text,
        source,
      };
    }
    const snap = d.type === "SNAPSHOT" ? d.name.split("@") : undefined;
    out[d.name] = {
      name: d.name,
      type: d.type,
      pool: d.pool,
      createtxg: asInt ? d.createtxg : String(d.createtxg),
      dataset: snap?.[0],
      snapshot_name: snap?.[1],
      properties,
    };
  }
  return `${
    jsonText({
      output_version: { command: "zfs list", vers_major: 0, vers_minor: 1 },
      datasets: out,
    })
  }\n`;
}
