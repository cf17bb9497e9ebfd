"""tooz's Redis driver (what upstream Gnocchi coordinates with), driven from the interop test.

argv: URL MEMBER_ID COMMAND
  hold LOCK_NAME   -- takes the lock and joins gnocchi-processing with capabilities
                      {"processed measures": 7}, prints one JSON line, then keeps both until
                      a line arrives on stdin; releases and leaves.
  probe LOCK_NAME  -- prints {"acquired": bool, "members": {member: capabilities}}: a
                      non-blocking try of the lock (released at once) and the group as tooz
                      lists it.
"""
import json
import sys

from tooz import coordination

GROUP = b"gnocchi-processing"


def main():
    url, member_id, command, lock_name = sys.argv[1:5]
    coord = coordination.get_coordinator(url, member_id.encode())
    coord.start(start_heart=True)
    lock = coord.get_lock(lock_name.encode())
    if command == "hold":
        assert lock.acquire(blocking=False)
        try:
            coord.create_group(GROUP).get()
        except coordination.GroupAlreadyExist:
            pass
        coord.join_group(GROUP).get()
        coord.update_capabilities(GROUP, {"processed measures": 7}).get()
        print(json.dumps({"lock": lock.name}), flush=True)
        sys.stdin.readline()
        lock.release()
        coord.leave_group(GROUP).get()
    else:
        acquired = lock.acquire(blocking=False)
        if acquired:
            lock.release()
        members = {}
        for m in coord.get_members(GROUP).get():
            caps = coord.get_member_capabilities(GROUP, m).get()
            members[m.decode()] = caps
        print(json.dumps({"acquired": acquired, "members": members}), flush=True)
    coord.stop()


if __name__ == "__main__":
    main()
