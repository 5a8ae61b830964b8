// The receipt as a PDF (pdf-lib, one A4 page per 40 lines): attached to the receipt mail and offered
// as a download on the receipt page, from the same facts as the mail's text.
import { PDFDocument, StandardFonts } from 'pdf-lib';
import type { ReceiptFacts } from './mail-content.ts';

// The standard fonts encode WinAnsi only: other characters (a name in another script) become '?'.
const winAnsi = (s: string) => s.replace(/[^\u0020-\u007e\u00a0-\u00ff€–—‘’“”•…]/g, '?');

/** The receipt's lines of text, in order (also what a test extracts). */
export function receiptPdfLines(f: ReceiptFacts): string[] {
  return [
    `Receipt for order ${f.orderId}`,
    `Invoice ${f.invoiceId}${f.paidAt ? `, paid ${f.paidAt.toISOString().slice(0, 16).replace('T', ' ')} UTC` : ''}`,
    '',
    ...f.lines.map((l) => `${l.quantity} x ${l.name} at ${l.unitPrice}: ${l.total}`),
    '',
    `Subtotal: ${f.subtotal}`,
    `Delivery (${f.delivery.name}): ${f.delivery.price}`,
    `Total paid: ${f.total}`,
    ...(f.card ? [`Card: ${f.card.brand} ending in ${f.card.last4}`] : []),
    '',
    'Delivery to:',
    ...f.address,
  ].map(winAnsi);
}

/** Renders the receipt PDF; its title and subject name the order so a reader can tell receipts apart. */
export async function receiptPdf(f: ReceiptFacts): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(`Receipt ${f.orderId}`);
  doc.setSubject(`Invoice ${f.invoiceId}, total ${winAnsi(f.total)}`);
  doc.setProducer('countersign shop');
  // Fixed dates: the same receipt renders to the same bytes, however often it is made.
  const when = f.paidAt ?? new Date(0);
  doc.setCreationDate(when);
  doc.setModificationDate(when);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const bold = await doc.embedFont(StandardFonts.HelveticaBold);
  const lines = receiptPdfLines(f);
  for (let start = 0; start < lines.length; start += 40) {
    const page = doc.addPage([595, 842]);
    let y = 780;
    lines.slice(start, start + 40).forEach((line, i) => {
      const heading = start + i === 0;
      page.drawText(line, { x: 56, y, size: heading ? 16 : 11, font: heading ? bold : font });
      y -= heading ? 28 : 17;
    });
  }
  return doc.save({ useObjectStreams: false });
}
