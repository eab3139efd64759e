/**
 * Month names as C `ctime(3)` prints them, which is how `zpool status` shows
 * scan times. The fake node's tools print with the same table.
 */
export const CTIME_MONTHS: readonly string[] = [
  "Jan",
  "Feb",
  "Mar",
  "Apr",
  "May",
  "Jun",
  "Jul",
  "Aug",
  "Sep",
  "Oct",
  "Nov",
  "Dec",
];
