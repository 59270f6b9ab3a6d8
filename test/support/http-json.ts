/** One HTTP request with fetch; the body read as text and, when it parses, as JSON (shared by the test harnesses). */
export async function fetchJson(url: string, init: RequestInit = {}): Promise<{ status: number; headers: Headers; text: string; json: any }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
