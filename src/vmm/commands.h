/* Entry points of pearvisor's subcommands (argv[0] is the command name). */
#ifndef PV_VMM_COMMANDS_H
#define PV_VMM_COMMANDS_H

int cmd_run(int argc, char **argv);          /* src/vmm/cmd_run.c */
int cmd_gpu_server(int argc, char **argv);   /* src/vtest/cmd_gpu_server.c */
int cmd_gpu_list(int argc, char **argv);     /* src/gpu/cmd_gpu_list.c */

#endif
