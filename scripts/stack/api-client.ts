import { JwtService } from '@nestjs/jwt';
import { DEV_JWT_SECRET } from './local-stack';

const jwt = new JwtService({ secret: DEV_JWT_SECRET, signOptions: { algorithm: 'HS256', expiresIn: 3600 } });

/** Mints a token for the local stack the way an operator would: signed with the shared secret. */
export const tokenFor = (userId: string, role: 'user' | 'admin' = 'user') => jwt.sign({ sub: userId, role });

/** Creates a seckill voucher through the API (as an admin) and returns its id. */
export async function createSeckillVoucher(
  baseUrl: string,
  stock: number,
  window = { fromMs: -3600_000, toMs: 3600_000 },
): Promise<string> {
  const now = Date.now();
  const response = await fetch(`${baseUrl}/voucher/seckill`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokenFor('1', 'admin')}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      shopId: 1,
      title: 'Flash sale',
      payValue: 100,
      actualValue: 10_000,
      stock,
      beginTime: new Date(now + window.fromMs).toISOString(),
      endTime: new Date(now + window.toMs).toISOString(),
    }),
  });
  const body = (await response.json()) as { id?: string };
  if (response.status !== 201 || !body.id) {
    throw new Error(`voucher creation failed: ${response.status} ${JSON.stringify(body)}`);
  }
  return body.id;
}
