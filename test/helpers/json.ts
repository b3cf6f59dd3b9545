/** Whether a line parses as JSON: malformed records (delivery faults' corrupt) are told apart by it. */
export function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
