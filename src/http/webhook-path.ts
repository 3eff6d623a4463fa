/** The V8 webhook path carries the tenant's secret: every URL that may reach a log or an answer goes through here. */

/** The secret segment of `/webhooks/v8/<secret>/consult` becomes `***`; any other URL is unchanged. */
export function redactWebhookPath (url: string): string {
  return url.replace(/^(\/webhooks\/v8\/)[^/?#]+/, '$1***')
}

/** The secret segment of a webhook URL (what the rate limiter checks before exempting V8's deliveries), or undefined. */
export function webhookSecretOf (url: string): string | undefined {
  return /^\/webhooks\/v8\/([^/?#]+)/.exec(url)?.[1]
}
