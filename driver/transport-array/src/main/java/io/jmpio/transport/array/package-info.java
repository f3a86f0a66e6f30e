/**
 * The emulated array's own front-end protocol as a path transport: discovery by REPORT LUNS, INQUIRY and
 * REPORT TARGET PORT GROUPS; a registered admin connection per path for probes and ALUA notices; a registered
 * connection per I/O queue and path carrying frames. Kept until every user of it speaks NVMe/TCP.
 */
package io.jmpio.transport.array;
