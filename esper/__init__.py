"""Esper: morphogenetic networks grown by a PPO controller (Tamiyo), with the blend-tempo lever.

Subpackages: ``leyline`` (contracts), ``kasmina`` (seeds, slots, hosts), ``tamiyo`` (observation, masks,
heuristic), ``simic`` (agent, rewards, vectorized training), ``tolaria`` (host training, governor), ``nissa``
(telemetry, reports), ``data`` (local datasets).
"""

__version__ = "0.1.0"
