#!/usr/bin/python3
"""libtorrent (Debian's python3-libtorrent) as the reference of
bench/swarm.sh: one seed and N leechers, each in its own network namespace,
over TCP only (no uTP), with DHT, local service discovery, UPnP and NAT-PMP
off, so that peers know each other only because they are told.

  torrent.py make FILE TORRENT
      a torrent of FILE with 256 KiB pieces (libtorrent's default kind,
      v1 and v2 hashes)
  torrent.py seed TORRENT DIR ADDRESS GO
  torrent.py leech TORRENT DIR ADDRESS GO PEER...
      listen on ADDRESS:6881 with the data in DIR; print "ready" once the
      torrent is checked, then wait until the file GO exists (every member
      starts at once). A leecher then connects to every PEER (addresses,
      port 6881: the seed and the other leechers) and prints "complete"
      when it holds every piece, each verified by libtorrent against the
      torrent's hashes. Both then keep serving until they are terminated.
"""
import os
import sys
import time

import libtorrent as lt

PORT = 6881
PIECE_SIZE = 256 * 1024


def make(path, torrent_path):
    storage = lt.file_storage()
    lt.add_files(storage, path)
    torrent = lt.create_torrent(storage, PIECE_SIZE)
    lt.set_piece_hashes(torrent, os.path.dirname(os.path.abspath(path)))
    with open(torrent_path, "wb") as out:
        out.write(lt.bencode(torrent.generate()))


def session(address):
    return lt.session({
        "listen_interfaces": f"{address}:{PORT}",
        "enable_dht": False,
        "enable_lsd": False,
        "enable_upnp": False,
        "enable_natpmp": False,
        "enable_outgoing_utp": False,
        "enable_incoming_utp": False,
        "alert_mask": lt.alert.category_t.error_notification,
    })


def wait_until(handle, done):
    # Polled every 10 ms: the status says where the torrent stands, the
    # alerts are only errors here.
    while not done(handle.status()):
        time.sleep(0.01)


def member(torrent_path, directory, address, go, peers):
    ses = session(address)
    params = lt.add_torrent_params()
    params.ti = lt.torrent_info(torrent_path)
    params.save_path = directory
    handle = ses.add_torrent(params)
    checking = (lt.torrent_status.checking_files, lt.torrent_status.checking_resume_data)
    wait_until(handle, lambda s: s.state not in checking)
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.005)
    for peer in peers:
        handle.connect_peer((peer, PORT))
    wait_until(handle, lambda s: s.is_seeding)
    print("complete", flush=True)
    while True:
        for alert in ses.pop_alerts():
            print(f"alert {alert.message()}", flush=True)
        ses.wait_for_alert(1000)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "make":
        make(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 6 and sys.argv[1] == "seed":
        member(*sys.argv[2:6], [])
    elif len(sys.argv) >= 6 and sys.argv[1] == "leech":
        member(*sys.argv[2:6], sys.argv[6:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
