/* The floor: what starting any static binary costs (exec, page faults, exit). */
int main(void) { return 0; }
