// Search coverage's geometry: square cells cellPx image pixels wide from the image's top
// left corner, the last column and row cut by the image's edge (as the server counts
// them). Pure, for the grid overlay and its tests. Pixel space is y down.

export function gridSize(width, height, cellPx) {
  if (!(cellPx > 0)) return {cols: 0, rows: 0};
  return {cols: Math.ceil(width / cellPx), rows: Math.ceil(height / cellPx)};
}

// cellAt is the cell under an image pixel, or null outside the image.
export function cellAt([x, y], width, height, cellPx) {
  if (!(cellPx > 0) || x < 0 || y < 0 || x >= width || y >= height) return null;
  return {col: Math.floor(x / cellPx), row: Math.floor(y / cellPx)};
}

// cellBox is a cell's [x0, y0, x1, y1] in image pixels, cut by the image's edge.
export function cellBox(col, row, width, height, cellPx) {
  return [col * cellPx, row * cellPx, Math.min((col + 1) * cellPx, width), Math.min((row + 1) * cellPx, height)];
}

// share is the part of the image's area the cells cover, 0 to 1.
export function share(cells, width, height, cellPx) {
  if (!(cellPx > 0) || !(width > 0) || !(height > 0)) return 0;
  let area = 0;
  for (const {col, row} of cells) {
    const [x0, y0, x1, y1] = cellBox(col, row, width, height, cellPx);
    if (x1 > x0 && y1 > y0) area += (x1 - x0) * (y1 - y0);
  }
  return area / (width * height);
}

// gridLines are the grid's inner lines, each a pair of image pixels.
export function gridLines(width, height, cellPx) {
  const {cols, rows} = gridSize(width, height, cellPx);
  const lines = [];
  for (let c = 1; c < cols; c++) lines.push([[c * cellPx, 0], [c * cellPx, height]]);
  for (let r = 1; r < rows; r++) lines.push([[0, r * cellPx], [width, r * cellPx]]);
  return lines;
}

// cellPxFor turns a cell size in a unit ("px" or "m") into whole image pixels; null when
// metres are asked of an image whose pixel size is unknown, or the size is not positive.
export function cellPxFor(size, unit, metresPerPx) {
  const n = Number(size);
  if (!(n > 0)) return null;
  if (unit === 'px') return Math.round(n);
  if (!(metresPerPx > 0)) return null;
  return Math.max(1, Math.round(n / metresPerPx));
}

// percent shows a share as a percentage, to one decimal (never rounding a little up to
// 100 % or down to nothing).
export function percent(s) {
  if (s <= 0) return '0 %';
  if (s >= 1) return '100 %';
  const p = Math.min(99.9, Math.max(0.1, Math.round(s * 1000) / 10));
  return `${p.toFixed(1)} %`;
}
