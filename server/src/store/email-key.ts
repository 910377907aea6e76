/** Emails compare case-insensitively; the stored form keeps what the orchestrator sent. */
export function emailKey(email: string): string {
  return email.trim().toLowerCase();
}
