/** Send a message over TCP and resolve with what comes back (port-forward checks against an echo server). */
import { connect } from 'node:net';

export function tcpRoundTrip(port: number, message: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => socket.write(message));
    let received = '';
    socket.on('data', (chunk) => {
      received += chunk.toString();
      if (received.length >= message.length) {
        socket.destroy();
        resolve(received);
      }
    });
    socket.on('error', reject);
  });
}
