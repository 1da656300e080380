"""Name lists, streets and postal codes for the synthetic demo population of the canton of Zürich.

The lists are written for this project. Each origin group carries its first names, last names and the
languages its members tend to speak; the group weights roughly follow the composition of the working-age
population that the partner institutions serve in the canton (Swiss majority, large Italian, Portuguese,
Kosovar and ex-Yugoslav communities, Turkish and Kurdish, Tamil, Eritrean, Spanish, Syrian, Afghan and
Ukrainian families). Within a list, earlier names are drawn more often, so that a search for "Müller"
finds many people, as it would in practice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OriginGroup:
    key: str
    weight: float
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]
    # Language lists (codes of iiz.clients.models.Language, main language first) and their weights.
    languages: tuple[tuple[tuple[str, ...], float], ...]


def _split(text: str) -> tuple[str, ...]:
    # Names are written one group per line, separated by commas; duplicates are dropped, order is kept.
    return tuple(dict.fromkeys(name.strip() for name in text.replace("\n", ",").split(",") if name.strip()))


SWISS_GERMAN = OriginGroup(
    key="swiss_german",
    weight=48,
    female=_split("""
        Anna, Maria, Sandra, Nicole, Andrea, Claudia, Daniela, Barbara, Monika, Karin, Susanne, Sarah,
        Laura, Julia, Lea, Ursula, Ruth, Elisabeth, Verena, Brigitte, Christine, Esther, Regula, Silvia,
        Beatrice, Cornelia, Franziska, Gabriela, Marianne, Katharina, Rita, Doris, Irene, Priska, Judith,
        Yvonne, Manuela, Corinne, Bettina, Simone, Tanja, Jacqueline, Patricia, Petra, Stefanie, Sabrina,
        Melanie, Jasmin, Michelle, Lara, Nina, Anja, Jana, Vanessa, Jessica, Fabienne, Martina, Rahel,
        Deborah, Tamara, Nadine, Seraina, Livia, Selina, Alina, Mia, Lena, Elena, Noemi, Leonie, Larissa,
        Flurina, Céline, Chantal, Carmen, Denise, Evelyne, Flavia, Isabelle, Myriam, Natalie, Olivia, Pia,
        Romana, Sibylle, Theres, Vreni, Annina, Carla, Eliane, Helena, Ladina, Mirjam, Nora, Salome, Tabea,
        Valentina, Zoe, Lisa, Johanna, Sophie, Emma, Hanna, Ramona, Janine, Aline, Bianca, Sonja, Christa,
        Erika, Lisbeth, Gertrud, Marlies, Heidi, Margrit
    """),
    male=_split("""
        Daniel, Thomas, Peter, Martin, Andreas, Markus, Christian, Stefan, Michael, Hans, Urs, Beat, René,
        Walter, Bruno, Werner, Kurt, Rolf, Heinz, Roland, Reto, Marco, Patrick, Roger, Adrian, Lukas, Simon,
        David, Pascal, Raphael, Fabian, Dominik, Matthias, Philipp, Samuel, Jonas, Noah, Luca, Nico, Tim,
        Kevin, Marcel, Oliver, Sandro, Severin, Silvan, Florian, Manuel, Cyrill, Yannick, Janick, Joel,
        Elias, Levin, Jan, Nils, Gian, Flurin, Ueli, Fritz, Ernst, Max, Paul, Josef, Alois, Ruedi, Jürg,
        Hansruedi, Hanspeter, Erich, Felix, Franz, Georg, Gregor, Ivo, Kilian, Lars, Mario, Mathias,
        Nicolas, Pirmin, Ralph, Remo, Robin, Sven, Thierry, Tobias, Valentin, Benjamin, Dario, Elia, Fabio,
        Gabriel, Jannis, Leandro, Moritz, Nino, Benedikt, Christoph, Dieter, Erwin, Heinrich, Karl, Konrad,
        Mike, Ramon, Sascha
    """),
    last=_split("""
        Müller, Meier, Schmid, Keller, Weber, Huber, Meyer, Schneider, Steiner, Fischer, Gerber, Brunner,
        Baumann, Frei, Zimmermann, Moser, Widmer, Wyss, Graf, Roth, Suter, Baumgartner, Bachmann, Studer,
        Bühler, Kaufmann, Bucher, Frey, Berger, Hofmann, Kälin, Lüthi, Marti, Wolf, Egli, Arnold, Koch,
        Hess, Gut, Vogel, Schwarz, Sutter, Ammann, Bosshard, Hofer, Wagner, Fuchs, Zürcher, Stucki, Gisler,
        Hug, Kunz, Wenger, Kuhn, Schmidt, Meili, Maurer, Lehmann, Stocker, Weibel, Rüegg, Hauser,
        Hürlimann, Bolliger, Strebel, Walder, Bänziger, Knecht, Schärer, Landolt, Bosch, Kägi, Nägeli,
        Wetli, Spörri, Honegger, Rüegsegger, Bodmer, Hotz, Wettstein, Schellenberg, Ochsner, Zollinger,
        Isler, Aeschlimann, Rutishauser, Stutz, Dürst, Schoch, Egloff, Fehr, Gloor, Bührer, Pfister, Lutz,
        Wyler, Brändli, Kuster, Furrer, Sigg, Tanner, Vontobel, Zwicky, Blattmann, Boller, Diener, Eberle,
        Forrer, Gubler, Haller, Iten, Jucker, Kündig, Leemann, Mettler, Näf, Reichling, Schaufelberger,
        Tobler, Uhlmann, Vetter, Weiss, Ziegler, Zehnder, Brändle, Vögeli, Grob, Hegetschweiler,
        Rüttimann, Schweizer, Fritschi, Jenni, Burkhard, Ruf, Wild, Sommer, Oberholzer, Eggenberger,
        Schnyder, Aebischer, Fankhauser, Wüthrich, Zaugg, Gasser, Bieri, Kern, Staub, Merz, Hunziker, Hafner
    """),
    languages=((("de",), 80), (("de", "en"), 15), (("de", "fr"), 4), (("de", "it"), 1)),
)

ROMAND = OriginGroup(
    key="romand",
    weight=2,
    female=_split("""
        Camille, Chloé, Léa, Manon, Mathilde, Amélie, Aurélie, Céline, Nathalie, Sophie, Valérie, Sylvie,
        Isabelle, Émilie, Marion, Justine, Mélanie, Sandrine
    """),
    male=_split("""
        Jean, Pierre, Luc, Nicolas, Olivier, Julien, Sébastien, Yves, Alain, Christophe, Mathieu, Laurent,
        Antoine, Maxime, Thibaut, Cédric, Grégoire, Loïc
    """),
    last=_split("""
        Favre, Rochat, Bonvin, Perrin, Chevalier, Dubois, Morand, Rey, Bovet, Jaquier, Clerc, Monnier,
        Ducret, Pittet, Vuilleumier, Gilliéron, Cuendet, Blanc, Mottier, Guignard, Fournier, Gay, Berset
    """),
    languages=((("fr", "de"), 60), (("fr",), 30), (("fr", "en"), 10)),
)

ITALIAN = OriginGroup(
    key="italian",
    weight=7,
    female=_split("""
        Giulia, Francesca, Chiara, Sara, Valentina, Alessandra, Elena, Federica, Martina, Silvia, Paola,
        Laura, Antonella, Giovanna, Rosa, Carmela, Angela, Teresa, Lucia, Anna, Sofia, Alessia, Giorgia,
        Roberta, Daniela, Concetta, Graziella
    """),
    male=_split("""
        Giuseppe, Antonio, Giovanni, Francesco, Marco, Luca, Alessandro, Andrea, Matteo, Stefano,
        Salvatore, Vincenzo, Roberto, Davide, Simone, Lorenzo, Fabio, Paolo, Domenico, Michele, Angelo,
        Carmine, Gianluca, Massimo, Nicola, Pasquale, Rocco
    """),
    last=_split("""
        Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo,
        Conti, De Luca, Costa, Giordano, Mancini, Rizzo, Lombardi, Moretti, Barbieri, Fontana, Santoro,
        Mariani, Rinaldi, Caruso, Ferrara, Galli, Martini, Leone, Longo, Gentile, Martinelli, Vitale,
        Lombardo, Serra, Coppola, De Santis, D'Angelo, Marchetti, Parisi, Villa, Conte, Ferraro, Fabbri,
        Bianco, Marini, Grasso, Valentini, Messina, Sala, De Angelis, Gatti, Pellegrini, Palumbo, Sanna,
        Farina, Rizzi, Monti, Cattaneo, Lo Russo, Di Stefano, Amato, Cirillo
    """),
    languages=((("it", "de"), 65), (("it",), 20), (("de", "it"), 15)),
)

PORTUGUESE = OriginGroup(
    key="portuguese",
    weight=6,
    female=_split("""
        Ana, Maria, Sofia, Beatriz, Inês, Mariana, Catarina, Joana, Rita, Sara, Marta, Carla, Patrícia,
        Cláudia, Sandra, Filipa, Raquel, Vânia, Daniela, Liliana, Fátima, Isabel, Cristina, Susana, Tânia
    """),
    male=_split("""
        João, José, António, Manuel, Francisco, Pedro, Rui, Paulo, Carlos, Luís, Nuno, Miguel, Tiago,
        Ricardo, Bruno, Hugo, Diogo, Fernando, Jorge, Sérgio, Vítor, Rafael, Gonçalo, Joaquim, Fábio
    """),
    last=_split("""
        Silva, Santos, Ferreira, Pereira, Oliveira, Costa, Rodrigues, Martins, Jesus, Sousa, Fernandes,
        Gonçalves, Gomes, Lopes, Marques, Alves, Almeida, Ribeiro, Pinto, Carvalho, Teixeira, Moreira,
        Correia, Mendes, Nunes, Soares, Vieira, Monteiro, Cardoso, Rocha, Neves, Coelho, Cruz, Cunha,
        Pires, Ramos, Reis, Simões, Antunes, Matos, Fonseca, Machado, Araújo, Barbosa, Tavares, Lourenço,
        Castro, Figueiredo, Azevedo, Freitas, Da Silva, Dos Santos
    """),
    languages=((("pt", "de"), 55), (("pt",), 30), (("pt", "es"), 8), (("pt", "fr"), 7)),
)

ALBANIAN = OriginGroup(
    key="albanian",
    weight=7,
    female=_split("""
        Arta, Blerta, Drita, Fatime, Fjolla, Gentiana, Hana, Ilirjana, Jehona, Kaltrina, Lirije, Mimoza,
        Njomza, Qendresa, Rina, Shqipe, Teuta, Valbona, Vjosa, Zana, Albulena, Besarta, Donjeta, Elona,
        Flaka, Leonora, Merita, Arbnora, Edona, Liridona
    """),
    male=_split("""
        Agon, Arben, Arianit, Bekim, Besim, Blerim, Burim, Driton, Enver, Fatmir, Flamur, Gëzim, Ilir,
        Jeton, Kushtrim, Labinot, Lulzim, Mentor, Naim, Petrit, Qamil, Rrahim, Shkelzen, Valon, Visar,
        Ardian, Alban, Dardan, Egzon, Erion
    """),
    last=_split("""
        Krasniqi, Gashi, Berisha, Morina, Shala, Hoxha, Bytyqi, Kastrati, Rexhepi, Ahmeti, Sadiku, Hasani,
        Kryeziu, Mustafa, Zeqiri, Aliu, Jashari, Selimi, Bajrami, Ismaili, Kelmendi, Osmani, Rama, Shabani,
        Thaqi, Veseli, Xhemaili, Zeka, Limani, Hyseni, Musliu, Sejdiu, Halili, Ramadani, Salihu, Emini,
        Dervishi, Qerimi, Syla, Haziri
    """),
    languages=((("sq", "de"), 60), (("de", "sq"), 25), (("sq",), 15)),
)

EX_YUGOSLAV = OriginGroup(
    key="ex_yugoslav",
    weight=5,
    female=_split("""
        Ana, Jelena, Marija, Ivana, Milica, Dragana, Snežana, Vesna, Maja, Tamara, Amra, Lejla, Emina,
        Amela, Selma, Mirela, Nataša, Sanja, Tijana, Ivona, Katarina, Dijana, Aida, Azra, Jasmina
    """),
    male=_split("""
        Marko, Nikola, Stefan, Milan, Dragan, Zoran, Goran, Dejan, Nenad, Ivan, Luka, Aleksandar, Miloš,
        Vladimir, Adnan, Emir, Haris, Amir, Kenan, Mirza, Tarik, Damir, Josip, Ante, Tomislav
    """),
    last=_split("""
        Jovanović, Petrović, Nikolić, Marković, Đorđević, Stojanović, Ilić, Stanković, Pavlović,
        Milošević, Popović, Kovačević, Horvat, Babić, Marić, Jurić, Novak, Knežević, Vuković, Hodžić,
        Hadžić, Begić, Delić, Mehmedović, Kovač, Tomić, Savić, Lukić, Mitrović, Radovanović, Simić, Perić,
        Kalinić, Obradović, Todorović
    """),
    languages=((("sr", "de"), 65), (("de", "sr"), 20), (("sr",), 15)),
)

TURKISH = OriginGroup(
    key="turkish",
    weight=5,
    female=_split("""
        Ayşe, Fatma, Emine, Hatice, Zeynep, Elif, Meryem, Esra, Merve, Büşra, Derya, Gül, Hülya, Sevgi,
        Yasemin, Özlem, Aylin, Ebru, Seda, Songül, Nurcan, Dilan, Rojda, Berfin, Zehra
    """),
    male=_split("""
        Mehmet, Mustafa, Ahmet, Ali, Hüseyin, Hasan, Ibrahim, Murat, Emre, Burak, Serkan, Kemal, Osman,
        Yusuf, Ömer, Cem, Volkan, Kadir, Erdal, Deniz, Baran, Serhat, Tolga, Can, Ercan
    """),
    last=_split("""
        Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Yıldırım, Öztürk, Aydın, Özdemir, Arslan, Doğan, Kılıç,
        Aslan, Çetin, Kara, Koç, Kurt, Özkan, Şimşek, Polat, Korkmaz, Erdoğan, Güneş, Aktaş, Acar, Tekin,
        Bozkurt, Kaplan, Avcı
    """),
    languages=((("tr", "de"), 60), (("tr",), 25), (("de", "tr"), 15)),
)

TAMIL = OriginGroup(
    key="tamil",
    weight=3,
    female=_split("""
        Tharshini, Kavitha, Nirosha, Sujatha, Vasanthi, Priya, Shanthi, Kalaivani, Thivya, Mathumitha,
        Abirami, Keerthana, Luxmi, Nivetha, Sharmila, Sivaranjini, Thulasi, Vithya, Yalini, Janani
    """),
    male=_split("""
        Suresh, Sivakumar, Rajan, Kumar, Ganesh, Thavarajah, Sritharan, Nirmalan, Kajan, Thushanth,
        Prasanth, Mathan, Vinoth, Arun, Sathees, Kannan, Ravi, Jeyakumar, Logan, Dinesh
    """),
    last=_split("""
        Sivalingam, Thambirajah, Kanagaratnam, Selvarajah, Nadarajah, Ponnuthurai, Arumugam, Kandiah,
        Sinnathamby, Balasingam, Rajaratnam, Shanmugam, Sivapalan, Thiruchelvam, Yogarajah, Mahalingam,
        Sellathurai, Velauthapillai, Kumaraswamy, Jeyarajah
    """),
    languages=((("ta", "de"), 60), (("ta",), 25), (("ta", "en"), 15)),
)

ERITREAN = OriginGroup(
    key="eritrean",
    weight=4,
    female=_split("""
        Senait, Helen, Selam, Rahwa, Saba, Yordanos, Feven, Luwam, Eden, Ruta, Mebrat, Tsega, Winta, Hiwet,
        Lidya, Semhar, Almaz, Azieb, Freweini, Mizan
    """),
    male=_split("""
        Dawit, Yonas, Samuel, Tesfalem, Filmon, Mehari, Aman, Biniam, Robel, Henok, Mussie, Natnael,
        Kibrom, Yemane, Awet, Habtom, Temesghen, Michael, Daniel, Efrem
    """),
    # In Swiss registers, Eritreans usually carry their father's first name as last name.
    last=_split("""
        Tesfay, Habte, Kidane, Tekle, Ghebremedhin, Haile, Berhane, Tsegay, Yohannes, Weldemichael,
        Gebremariam, Kahsay, Abraha, Mehari, Negash, Araya, Asmerom, Ghebreyesus, Woldu, Mengis
    """),
    languages=((("ti",), 45), (("ti", "de"), 35), (("ti", "ar"), 10), (("ti", "en"), 10)),
)

SPANISH = OriginGroup(
    key="spanish",
    weight=3,
    female=_split("""
        María, Carmen, Laura, Lucía, Marta, Paula, Cristina, Isabel, Elena, Raquel, Rocío, Nuria, Pilar,
        Silvia, Beatriz, Andrea, Valeria, Camila
    """),
    male=_split("""
        Antonio, José, Manuel, Francisco, David, Javier, Daniel, Carlos, Miguel, Alejandro, Sergio, Pablo,
        Jorge, Alberto, Raúl, Diego, Andrés, Luis
    """),
    last=_split("""
        García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, Martín, Jiménez,
        Ruiz, Hernández, Díaz, Moreno, Álvarez, Romero, Navarro, Torres, Domínguez
    """),
    languages=((("es", "de"), 60), (("es",), 30), (("es", "en"), 10)),
)

ARABIC = OriginGroup(
    key="arabic",
    weight=2,
    female=_split("""
        Fatima, Amal, Rania, Hiba, Noor, Layla, Rasha, Dima, Yasmin, Salma, Aya, Lina, Reem, Maha, Huda
    """),
    male=_split("""
        Mohammed, Ahmad, Omar, Khaled, Mahmoud, Yousef, Ali, Hassan, Ibrahim, Samer, Tarek, Bilal, Firas,
        Rami, Walid
    """),
    last=_split("""
        Al-Ahmad, Haddad, Khalil, Hamdan, Mansour, Nasser, Saleh, Darwish, Hussein, Ibrahim, Youssef,
        Khoury, Sabbagh, Al-Hassan, Abdullah, Othman, Kassem, Mahmoud, Zaki, Suleiman
    """),
    languages=((("ar",), 40), (("ar", "de"), 40), (("ar", "en"), 20)),
)

AFGHAN = OriginGroup(
    key="afghan",
    weight=2,
    female=_split("""
        Zahra, Maryam, Fatemeh, Shabnam, Mina, Parwana, Nargis, Farzana, Soraya, Laila, Hosai, Madina, Roya,
        Shakiba, Zainab
    """),
    male=_split("""
        Mohammad, Ahmad, Ali, Hamid, Reza, Mustafa, Javad, Sayed, Abdul, Jawad, Farid, Nasir, Omid, Hussain,
        Rahim
    """),
    last=_split("""
        Ahmadi, Hosseini, Mohammadi, Rahimi, Sultani, Karimi, Jafari, Rezaei, Noori, Haidari, Amiri, Sadat,
        Azizi, Habibi, Popal, Wardak, Stanikzai, Yousufzai, Safi, Nazari
    """),
    languages=((("fa",), 50), (("fa", "de"), 40), (("fa", "en"), 10)),
)

UKRAINIAN = OriginGroup(
    key="ukrainian",
    weight=2,
    female=_split("""
        Olena, Oksana, Iryna, Natalia, Tetiana, Yulia, Kateryna, Anastasiia, Svitlana, Olha, Mariia,
        Viktoriia, Alina, Daria, Halyna
    """),
    male=_split("""
        Oleksandr, Andrii, Serhii, Dmytro, Volodymyr, Mykola, Ivan, Yurii, Vitalii, Maksym, Oleh, Bohdan,
        Taras, Vasyl, Artem
    """),
    last=_split("""
        Melnyk, Shevchenko, Kovalenko, Bondarenko, Boiko, Tkachenko, Kravchenko, Kovalchuk, Oliinyk,
        Shevchuk, Polishchuk, Lysenko, Marchenko, Savchenko, Rudenko, Moroz, Petrenko, Pavlenko, Kuzmenko,
        Tkachuk
    """),
    languages=((("uk",), 40), (("uk", "de"), 30), (("uk", "en"), 30)),
)

ORIGIN_GROUPS: tuple[OriginGroup, ...] = (
    SWISS_GERMAN, ROMAND, ITALIAN, PORTUGUESE, ALBANIAN, EX_YUGOSLAV, TURKISH, TAMIL, ERITREAN, SPANISH,
    ARABIC, AFGHAN, UKRAINIAN,
)

# Approximate resident population (2023, rounded) of the larger municipalities, by BFS number. It only
# weights where synthetic clients live; municipalities not listed count as small (SMALL_MUNICIPALITY).
POPULATION: dict[int, int] = {
    261: 443_000, 230: 121_000, 198: 36_000, 191: 30_000, 243: 28_500, 121: 25_500, 293: 25_000,
    295: 23_500, 53: 22_500, 62: 21_000, 66: 21_000, 247: 20_500, 131: 19_500, 96: 19_000, 199: 19_000,
    141: 18_500, 296: 18_000, 69: 17_000, 158: 14_800, 154: 14_500, 156: 14_400, 138: 14_000, 161: 13_500,
    2: 12_800, 118: 12_500, 177: 12_500, 52: 12_000, 117: 11_800, 155: 11_500, 120: 10_500, 195: 10_600,
    56: 10_000, 90: 10_000, 115: 10_000, 250: 10_000, 193: 9_000, 153: 9_000, 192: 8_900, 135: 8_800,
    97: 8_500, 200: 8_300, 54: 8_000, 136: 7_900, 113: 7_800, 112: 7_500, 227: 7_500, 92: 7_000,
    245: 7_000, 298: 7_000, 83: 6_800, 172: 6_800, 242: 6_800, 152: 6_700, 86: 6_500, 159: 6_500,
    139: 6_000, 64: 5_800, 176: 5_800, 223: 5_800, 151: 5_700, 55: 5_500, 58: 5_500, 160: 5_500,
    137: 5_200, 89: 5_200, 197: 5_200, 111: 5_100, 194: 5_100, 157: 5_000, 228: 5_000, 244: 5_000,
    251: 5_000, 294: 5_000, 297: 5_000, 178: 4_600, 248: 4_500, 249: 4_000, 196: 3_800, 27: 3_700,
    101: 3_700,
}
SMALL_MUNICIPALITY = 2_000

# Postal codes of the larger municipalities (several for the cities). Others get a plausible code of
# their district's range, see ``DISTRICT_POSTAL_BASE``.
POSTAL_CODES: dict[int, tuple[str, ...]] = {
    261: ("8001", "8002", "8003", "8004", "8005", "8006", "8008", "8032", "8037", "8038", "8041", "8044",
          "8045", "8046", "8047", "8048", "8049", "8050", "8051", "8052", "8053", "8055", "8057", "8064"),
    230: ("8400", "8404", "8405", "8406", "8408", "8409"),
    198: ("8610", "8610", "8610", "8606"),
    191: ("8600",), 243: ("8953",), 121: ("8620",), 293: ("8820",), 295: ("8810",), 53: ("8180",),
    62: ("8302",), 66: ("8152",), 247: ("8952",), 131: ("8134",), 96: ("8105",), 199: ("8604",),
    141: ("8800",), 296: ("8307", "8307", "8308"), 69: ("8304",), 158: ("8712",), 154: ("8700",),
    156: ("8706",), 138: ("8805",), 161: ("8702", "8125"), 2: ("8910",), 118: ("8630",), 177: ("8330",),
    52: ("8303",), 117: ("8340",), 155: ("8708",), 120: ("8636",), 195: ("8124",), 56: ("8424",),
    90: ("8155",), 115: ("8625",), 250: ("8902",), 193: ("8117",), 153: ("8634",), 192: ("8132",),
    135: ("8802",), 97: ("8153",), 200: ("8602", "8306"), 54: ("8305",), 136: ("8135",), 113: ("8635",),
    112: ("8608",), 227: ("8472",), 92: ("8154",), 245: ("8102",), 298: ("8542",), 83: ("8107",),
    172: ("8320",), 242: ("8903",), 152: ("8704",), 86: ("8157",), 159: ("8707",), 139: ("8803",),
    176: ("8315",), 223: ("8413",), 151: ("8703",), 55: ("8193",), 58: ("8192",), 160: ("8126",),
    137: ("8942",), 89: ("8172",), 197: ("8603",), 111: ("8344",), 194: ("8606",), 228: ("8488",),
    244: ("8954",), 251: ("8104",), 294: ("8353",), 297: ("8494",), 178: ("8332",), 248: ("8142",),
    249: ("8103",), 196: ("8617",), 27: ("8245",), 291: ("8450",), 64: ("8309",), 157: ("8618",),
}
# The first three digits of the postal codes in each district (by district number), for the fallback.
DISTRICT_POSTAL_BASE: dict[int, int] = {
    101: 891, 102: 845, 103: 818, 104: 816, 105: 834, 106: 881, 107: 870, 108: 833, 109: 861, 110: 847,
    111: 895, 112: 804,
}

# Streets that exist in many municipalities of the canton, and some well-known streets of the three
# largest towns. A share of addresses also uses "<family name>strasse", as new quarters often do.
COMMON_STREETS: tuple[str, ...] = _split("""
    Bahnhofstrasse, Dorfstrasse, Hauptstrasse, Kirchgasse, Schulhausstrasse, Seestrasse, Bergstrasse,
    Poststrasse, Industriestrasse, Gartenstrasse, Rosenweg, Lindenstrasse, Feldstrasse, Wiesenstrasse,
    Mühlestrasse, Waldstrasse, Sonnenbergstrasse, Kirchweg, Zürcherstrasse, Grabenstrasse, Rainstrasse,
    Alte Landstrasse, Im Ifang, Im Grund, Obere Bahnhofstrasse, Neugasse, Schützenstrasse, Weinbergstrasse,
    Tösstalstrasse, Oberdorfstrasse, Unterdorfstrasse, Rebbergstrasse, Tannenweg, Buchenweg, Eichstrasse,
    Ahornweg, Birkenweg, Sonnenrain, Hofackerstrasse, Breitistrasse, Langackerstrasse, Brunnenstrasse,
    Chilegass, Wässeristrasse, Riedstrasse, Weiherstrasse, Schlossstrasse, Talstrasse, Florastrasse,
    Freiestrasse, Neuwiesenstrasse, Kasernenstrasse, Friedhofstrasse, Sportplatzstrasse, Dammstrasse,
    Fabrikstrasse, Hinterdorfstrasse, Mattenweg, Allmendstrasse, Quellenstrasse, Bühlstrasse,
    Hohlstrasse, Kreuzstrasse, Gewerbestrasse, Bachstrasse, Rütistrasse, Eggstrasse, Birchstrasse,
    Haldenstrasse, Loorenstrasse, Wingertstrasse, Steinackerstrasse, Guggenbühlstrasse, Flurstrasse
""")
TOWN_STREETS: dict[int, tuple[str, ...]] = {
    261: _split("""
        Badenerstrasse, Langstrasse, Schaffhauserstrasse, Hohlstrasse, Birmensdorferstrasse,
        Rosengartenstrasse, Wehntalerstrasse, Winterthurerstrasse, Seebahnstrasse, Albisriederstrasse,
        Hardturmstrasse, Friesenbergstrasse, Dübendorfstrasse, Überlandstrasse, Witikonerstrasse,
        Forchstrasse, Seefeldstrasse, Limmatstrasse, Josefstrasse, Kalkbreitestrasse, Zweierstrasse,
        Wallisellenstrasse, Hagenholzstrasse, Thurgauerstrasse, Regensbergstrasse, Affolternstrasse,
        Wasserwerkstrasse, Stampfenbachstrasse, Universitätstrasse, Hofwiesenstrasse
    """),
    230: _split("""
        Stadthausstrasse, Technikumstrasse, Frauenfelderstrasse, St. Gallerstrasse, Wülflingerstrasse,
        Seenerstrasse, Rosenstrasse, Wartstrasse, Grüzefeldstrasse, Hegifeldstrasse, Römerstrasse,
        Breitestrasse, Schlosstalstrasse, Tösstalstrasse, Zürcherstrasse, Schaffhauserstrasse
    """),
    198: _split("""
        Zürichstrasse, Brauereistrasse, Bankstrasse, Gerichtsstrasse, Winterthurerstrasse,
        Oberlandstrasse, Wagerenstrasse, Asylstrasse, Pfäffikerstrasse, Talackerstrasse,
        Apothekerstrasse, Gschwaderstrasse, Nossikonerstrasse, Florastrasse, Neuwiesenstrasse, Seestrasse
    """),
}

# Purposes written on consent forms in practice (data, not interface text: shown as recorded).
CONSENT_PURPOSES: tuple[str, ...] = (
    "Koordination der Eingliederung im Rahmen der iiz",
    "Abklärung der beruflichen, sozialen und gesundheitlichen Situation im Rahmen der interinstitutionellen "
    "Zusammenarbeit",
    "Erstellung und Umsetzung eines gemeinsamen Integrationsplans",
    "Vorbereitung und Durchführung eines iiz-Fallteams",
    "Abstimmung der Leistungen von RAV, IV-Stelle und Sozialdienst",
    "Früherfassung und Koordination der beruflichen Wiedereingliederung",
)
YOUTH_PURPOSE = "Begleitung beim Einstieg in eine berufliche Grundbildung im Rahmen der iiz"
REVOCATION_REASONS: tuple[str, ...] = (
    "Die Person hat die Einwilligung im Beratungsgespräch mündlich widerrufen.",
    "Schriftlicher Widerruf der Person.",
    "Widerruf durch die Person nach Abschluss der Zusammenarbeit.",
)

# Postal codes that belong to a village of the municipality rather than to its main town.
POSTAL_TOWNS: dict[tuple[int, str], str] = {
    (198, "8606"): "Nänikon", (161, "8125"): "Zollikerberg", (200, "8306"): "Brüttisellen",
    (200, "8602"): "Wangen", (296, "8307"): "Effretikon", (296, "8308"): "Illnau", (66, "8152"): "Glattbrugg",
}
