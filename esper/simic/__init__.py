"""Simic: Tamiyo's learning machinery (``agent``: policy network, rollout buffer, PPO, checkpoints;
``rewards``: reward functions; ``training``: the vectorised training loop).

Subpackages are imported explicitly (``from esper.simic.agent import PPOAgent``) to keep this import light.
"""
