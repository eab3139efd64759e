/**
 * The usage texts OpenZFS 2.2 prints after a bad option, abridged to the
 * parts a reader would look at. The exit code is 2, as `usage(B_FALSE)`.
 */

const ZPOOL_PROPERTIES = [
  ["allocated", false, "<size>"],
  ["capacity", false, "<size>"],
  ["checkpoint", false, "<size>"],
  ["dedupratio", false, "<1.00x or higher if deduped>"],
  ["expandsize", false, "<size>"],
  ["fragmentation", false, "<percent>"],
  ["free", false, "<size>"],
  ["freeing", false, "<size>"],
  ["guid", false, "<guid>"],
  ["health", false, "<state>"],
  ["leaked", false, "<size>"],
  ["load_guid", false, "<load_guid>"],
  ["size", false, "<size>"],
  ["altroot", true, "<path>"],
  ["ashift", true, "<ashift, 9-16, or 0=default>"],
  ["autoexpand", true, "on | off"],
  ["autoreplace", true, "on | off"],
  ["autotrim", true, "on | off"],
  ["bootfs", true, "<filesystem>"],
  ["cachefile", true, "<file> | none"],
  ["comment", true, "<comment-string>"],
  ["compatibility", true, "<file[,file...]> | off | legacy"],
  ["delegation", true, "on | off"],
  ["failmode", true, "wait | continue | panic"],
  ["listsnapshots", true, "on | off"],
  ["multihost", true, "on | off"],
  ["readonly", true, "on | off"],
  ["version", true, "<version>"],
] as const;

const ZFS_PROPERTIES = [
  ["available", "NO", "NO", "<size>"],
  ["compressratio", "NO", "NO", "<1.00x or higher if compressed>"],
  ["createtxg", "NO", "NO", "<uint64>"],
  ["creation", "NO", "NO", "<date>"],
  ["guid", "NO", "NO", "<uint64>"],
  ["logicalused", "NO", "NO", "<size>"],
  ["mounted", "NO", "NO", "yes | no"],
  ["origin", "NO", "NO", "<snapshot>"],
  ["referenced", "NO", "NO", "<size>"],
  ["type", "NO", "NO", "filesystem | volume | snapshot | bookmark"],
  ["used", "NO", "NO", "<size>"],
  ["usedbychildren", "NO", "NO", "<size>"],
  ["usedbydataset", "NO", "NO", "<size>"],
  ["usedbysnapshots", "NO", "NO", "<size>"],
  ["written", "NO", "NO", "<size>"],
  ["atime", "YES", "YES", "on | off"],
  [
    "compression",
    "YES",
    "YES",
    "on | off | lzjb | gzip | gzip-[1-9] | zle | lz4 | zstd | zstd-[1-19] | zstd-fast | zstd-fast-[1-10,20,30,40,50,60,70,80,90,100,500,1000]",
  ],
  ["mountpoint", "YES", "YES", "<path> | legacy | none"],
  ["quota", "YES", "NO", "<size> | none"],
  ["recordsize", "YES", "YES", "512 to 1M, power of 2"],
  ["refquota", "YES", "NO", "<size> | none"],
  ["volsize", "YES", "NO", "<size>"],
] as const;

/** `zpool list` usage, as ZFS 2.2 prints it on a bad option. */
export function zpoolListUsage(): string {
  let text =
    "usage:\n\tlist [-gHLpPv] [-o property[,...]] [-T d|u] [pool] ... \n" +
    "\t    [interval [count]]\n\nthe following properties are supported:\n\n" +
    `\t${"PROPERTY".padEnd(19)}  EDIT   VALUES\n\n`;
  for (const [name, editable, values] of ZPOOL_PROPERTIES) {
    text += `\t${name.padEnd(19)}  ${
      editable ? " YES   " : "  NO   "
    }${values}\n`;
  }
  text +=
    `\t${"feature@...".padEnd(19)}   YES   disabled | enabled | active\n\n` +
    "The feature@ properties must be appended with a feature name.\n" +
    "See zpool-features(7).\n";
  return text;
}

/** `zpool status` usage, as ZFS 2.2 prints it on a bad option. */
export function zpoolStatusUsage(): string {
  return "usage:\n\tstatus [-c [script1,script2,...]] [-igLpPstvxD]  [-T d|u] [pool] ... \n" +
    "\t    [interval [count]]\n";
}

/** `zfs list` usage, as ZFS 2.2 prints it on a bad option. */
export function zfsListUsage(): string {
  let text =
    "usage:\n\tlist [-Hp] [-r|-d max] [-o property[,...]] [-s property]...\n" +
    "\t    [-S property]... [-t type[,...]] [filesystem|volume|snapshot] ...\n\n" +
    "The following properties are supported:\n\n" +
    `\t${"PROPERTY".padEnd(15)}  EDIT  INHERIT   VALUES\n\n`;
  for (const [name, edit, inherit, values] of ZFS_PROPERTIES) {
    text += `\t${name.padEnd(15)}  ${edit.padStart(3)}      ${
      inherit.padStart(3)
    }   ${values}\n`;
  }
  text +=
    "\nSizes are specified in bytes with standard units such as K, M, G, etc.\n\n" +
    "User-defined properties can be specified by using a name containing a colon (:).\n";
  return text;
}
