// Just enough multipart/form-data parsing for /upload/image and /upload/mask.
export interface Part { name: string; filename?: string; contentType?: string; data: Buffer }

export function parseMultipart(body: Buffer, contentType: string): Map<string, Part> {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const parts = new Map<string, Part>();
  if (!m) return parts;
  const boundary = Buffer.from(`--${m[1] ?? m[2]}`);
  let pos = body.indexOf(boundary);
  while (pos >= 0) {
    const start = pos + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const headEnd = body.indexOf('\r\n\r\n', start);
    if (headEnd < 0) break;
    const next = body.indexOf(boundary, headEnd);
    if (next < 0) break;
    const headers = body.subarray(start + 2, headEnd).toString('utf8');
    const data = body.subarray(headEnd + 4, next - 2);
    const disp = /content-disposition:[^\r\n]*/i.exec(headers)?.[0] ?? '';
    const name = /\bname="([^"]*)"/i.exec(disp)?.[1];
    const filename = /\bfilename="([^"]*)"/i.exec(disp)?.[1];
    const ct = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1];
    if (name !== undefined && !parts.has(name)) {
      const part: Part = { name, data };
      if (filename !== undefined) part.filename = filename;
      if (ct !== undefined) part.contentType = ct;
      parts.set(name, part);
    }
    pos = next;
  }
  return parts;
}
