# State Grid's bills and statements group by thousands with a comma
# (15,174,842 千瓦时), not Django's default grouping by ten thousands.
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
