export type Line = { sku: string; quantity: number; unitCents: number };

/** The total of `lines`, in cents; a line without a positive quantity is a bug upstream. */
export function totalCents(lines: Line[]): number {
  let total = 0;
  for (const line of lines) {
    if (line.quantity <= 0) {
      throw new Error(`quantity must be positive for ${line.sku}`);
    }
    total += line.quantity * line.unitCents;
  }
  return total;
}
