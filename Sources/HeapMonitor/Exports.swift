// `import HeapMonitor` brings both sides: recording in the host, analysis of
// its profiles, and the model they share.
@_exported import HeapMonitorAnalysis
@_exported import HeapMonitorModel
@_exported import HeapMonitorRecording
