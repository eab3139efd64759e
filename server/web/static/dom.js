// @ts-check
/**
 * Typed DOM look-ups for the dashboard scripts: an element of the expected
 * class, or null, so the scripts never cast what `querySelector` returns.
 */

/**
 * The first element under `root` matching `selector` that is a `type`.
 * @template {Element} T
 * @param {string} selector
 * @param {{ new (): T; prototype: T }} type
 * @param {ParentNode} [root]
 * @returns {T | null}
 */
export function one(selector, type, root = document) {
  const el = root.querySelector(selector);
  return el instanceof type ? el : null;
}

/**
 * Every element under `root` matching `selector` that is a `type`.
 * @template {Element} T
 * @param {string} selector
 * @param {{ new (): T; prototype: T }} type
 * @param {ParentNode} [root]
 * @returns {T[]}
 */
export function all(selector, type, root = document) {
  return [...root.querySelectorAll(selector)].filter(
    /** @returns {el is T} */ (el) => el instanceof type,
  );
}
