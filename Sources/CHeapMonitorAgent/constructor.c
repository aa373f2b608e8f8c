#include "CHeapMonitorAgent.h"

// Runs when the dynamic loader maps the preloaded agent: every library the
// program needs is loaded and relocated by then (so the allocation hooks can
// patch their GOTs), and the Swift runtime, a dependency of the agent, is
// initialised. The program's own constructors have not run yet, which is
// why classes are tracked by name pattern rather than looked up by name.
__attribute__((constructor)) static void hm_agent_constructor(void) { hm_agent_start(); }
