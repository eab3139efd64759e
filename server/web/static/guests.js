/**
 * Sorting and filtering of the guests table, in the browser. Re-applied
 * after each live update, which replaces the rows.
 */
const table = document.getElementById("guest-table");
const filter = document.getElementById("guest-filter");
let column = 0;
let direction = 1;

function cellKey(row, type) {
  const cell = row.cells[column];
  if (!cell) return "";
  if (type === "number") return Number(cell.dataset.value ?? cell.textContent);
  return cell.textContent.trim().toLowerCase();
}

function apply() {
  const body = document.getElementById("guest-rows");
  if (!table || !body) return;
  const rows = [...body.rows].filter((r) => r.dataset.vmid);
  const query = filter.value.trim().toLowerCase();
  for (const row of rows) {
    row.hidden = query !== "" && !row.textContent.toLowerCase().includes(query);
  }
  const headers = table.tHead.rows[0].cells;
  const type = headers[column].querySelector("button").dataset.sort;
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

if (table && filter) {
  table.tHead.addEventListener("click", (e) => {
    const button = e.target.closest("button[data-col]");
    if (!button) return;
    const col = Number(button.dataset.col);
    direction = col === column ? -direction : 1;
    column = col;
    apply();
  });
  filter.addEventListener("input", apply);
  document.addEventListener("proxmon:patched", apply);
}
