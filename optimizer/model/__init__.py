"""optimizer/model"""
