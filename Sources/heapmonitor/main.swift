import ArgumentParser

HeapMonitorCommand.main()
