// @ts-check
/**
 * Sorting and filtering of the guests table, in the browser. Re-applied
 * after each live update, which replaces the rows.
 */
import { one } from "./dom.js";

const table = one("#guest-table", HTMLTableElement);
const filter = one("#guest-filter", HTMLInputElement);
let column = 0;
let direction = 1;

/**
 * @param {HTMLTableRowElement} row
 * @param {string | undefined} type
 * @returns {number | string}
 */
function cellKey(row, type) {
  const cell = row.cells[column];
  if (!cell) return "";
  if (type === "number") return Number(cell.dataset.value ?? cell.textContent);
  return (cell.textContent ?? "").trim().toLowerCase();
}

function apply() {
  const body = one("#guest-rows", HTMLTableSectionElement);
  if (!table || !filter || !table.tHead || !body) return;
  const rows = [...body.rows].filter((r) => r.dataset.vmid);
  const query = filter.value.trim().toLowerCase();
  for (const row of rows) {
    row.hidden = query !== "" &&
      !(row.textContent ?? "").toLowerCase().includes(query);
  }
  const headers = table.tHead.rows[0].cells;
  const type = one("button", HTMLButtonElement, headers[column])?.dataset.sort;
  rows.sort((a, b) => {
    const x = cellKey(a, type);
    const y = cellKey(b, type);
    return (x < y ? -1 : x > y ? 1 : 0) * direction;
  });
  body.append(...rows);
  [...headers].forEach((th, i) => {
    if (i === column) {
      th.setAttribute("aria-sort", direction > 0 ? "ascending" : "descending");
    } else th.removeAttribute("aria-sort");
  });
}

if (table?.tHead && filter) {
  table.tHead.addEventListener("click", (e) => {
    const button = e.target instanceof Element
      ? e.target.closest("button[data-col]")
      : null;
    if (!(button instanceof HTMLButtonElement)) return;
    const col = Number(button.dataset.col);
    direction = col === column ? -direction : 1;
    column = col;
    apply();
  });
  filter.addEventListener("input", apply);
  document.addEventListener("proxmon:patched", apply);
}
