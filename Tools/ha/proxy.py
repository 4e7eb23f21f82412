#!/usr/bin/env python3
"""A TCP relay standing for the network between one Logbook node and the PostgreSQL members, so
Tools/ha/failure-modes.sh can cut that node off (a partition) and heal it, leaving every other
connection alone.

SIGUSR1 partitions: nothing more is relayed either way and new connections get no answer (their
bytes are held, as dropped packets would be). SIGUSR2 heals: relaying resumes, held bytes included.

usage: proxy.py LISTEN_PORT:TARGET_PORT [LISTEN_PORT:TARGET_PORT ...]    (127.0.0.1 both sides)
"""
import asyncio, signal, sys

pairs = [tuple(int(p) for p in arg.split(":")) for arg in sys.argv[1:]]


async def main():
    flowing = asyncio.Event()
    flowing.set()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, flowing.clear)
    loop.add_signal_handler(signal.SIGUSR2, flowing.set)

    async def pipe(reader, writer):
        try:
            while data := await reader.read(65536):
                await flowing.wait()
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    def handler(target):
        async def handle(client_reader, client_writer):
            await flowing.wait()
            try:
                server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target)
            except OSError:
                client_writer.close()
                return
            await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
        return handle

    servers = [await asyncio.start_server(handler(target), "127.0.0.1", listen) for listen, target in pairs]
    print("relaying", " ".join(f"{l}->{t}" for l, t in pairs), flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
