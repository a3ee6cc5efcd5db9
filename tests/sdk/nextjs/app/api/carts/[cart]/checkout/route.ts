// A route handler that throws from a helper in another file (lib/pricing.ts). Its folder is a
// dynamic segment, so the map names this file with its brackets percent-encoded.
import { totalCents, type Line } from "../../../../../lib/pricing";

export const dynamic = "force-dynamic";

const giftWrap: Line = { sku: "wrap", quantity: 1, unitCents: 300 };

export async function GET(_request: Request, { params }: { params: Promise<{ cart: string }> }) {
  const { cart } = await params;
  const lines: Line[] = [
    { sku: `${cart}-tea`, quantity: 2, unitCents: 450 },
    { sku: `${cart}-cup`, quantity: 0, unitCents: 1200 },
  ];
  const cents = totalCents(lines);
  const wrapped = totalCents([...lines, giftWrap]);
  return Response.json({ cents, wrapped });
}
