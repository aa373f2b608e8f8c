#ifndef CHEAPMONITORAGENT_H
#define CHEAPMONITORAGENT_H

// Starts the agent from the environment (HeapMonitorAgent, Swift). Called
// once, by the library's constructor, before the program's main.
void hm_agent_start(void);

#endif
