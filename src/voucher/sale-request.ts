/** One order request of a sale, as the admission (and its rate limits) sees it. */
export interface SaleRequest {
  userId: string;
  voucherId: string;
  /** The client's address, for its rate limit (RATE_LIMIT_IP_*): nginx's X-Real-IP from a trusted proxy. */
  clientAddress?: string;
}
