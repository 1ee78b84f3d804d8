"""Watch what runs do to the machine: orphans, zombies, leaks in other processes, free space."""
